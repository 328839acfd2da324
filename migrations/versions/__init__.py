"""One module per schema change, named after the change (``0002_add_x.py``)."""
