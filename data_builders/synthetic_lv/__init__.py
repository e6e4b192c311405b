"""`synthetic_lv`: synthetic long videos with planted facial expressions."""
