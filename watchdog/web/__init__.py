"""The HTTP side: form webhooks, health and metrics, and the owner's dashboard.

``create_app(config, session_factory, clock=...)`` (in ``app``) builds the
FastAPI application: ``hooks`` (POST /hooks/{form}), ``health`` (GET
/healthz) and ``metrics`` (GET /metrics) are open to machines; the
dashboard (``dashboard.install_dashboard``) shows customers' mail and sits
behind a login (``login``, ``auth``, ``session``, ``csrf``, ``throttle``).
Its pages are one module each: ``overview`` (/), ``cases`` (/cases),
``case`` (/cases/{id}), ``messages``, ``sources``, ``alarms``, ``digests``;
``actions`` holds what the owner can change; ``pages`` what they share.
"""
