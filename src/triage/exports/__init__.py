"""Help-desk exports: mappings, readers and business-time measurement of their timestamps."""
