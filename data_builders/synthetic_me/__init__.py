"""`synthetic_me`: synthetic micro-expression clips for recognition."""
