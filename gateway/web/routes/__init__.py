"""Route tables, one module per area; each builds its routes from an explicit WebContext."""
