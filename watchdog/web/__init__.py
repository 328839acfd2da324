"""The HTTP side: form webhooks, health and metrics, and the owner's dashboard.

``create_app(config, session_factory, clock=...)`` (in ``app``) builds the
FastAPI application; each area is a router of its own module: ``hooks``
(POST /hooks/{form}), ``health`` (GET /healthz), ``metrics`` (GET /metrics),
``dashboard`` (the front page and messages) and ``cases`` (/cases), both
behind ``auth``; ``pages`` holds what the pages share.
"""
