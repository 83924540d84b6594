"""FAB views and REST APIs, one module per aggregate; registered in ``registry.init_views``."""
