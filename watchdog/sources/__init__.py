"""Sources: the edges that bring mail and form submissions in (read-only), and the syncs that store them."""
