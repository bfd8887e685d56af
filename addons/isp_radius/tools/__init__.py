"""Generated configuration: FreeRADIUS (freeradius_config, freeradius_sql) and RouterOS lines
(routeros_lines). Pure functions of their arguments: the models gather the values."""
