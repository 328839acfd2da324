"""Track: group messages into threads and keep each request's case (open, answered, handled)."""
