"""AvR Studio's Qt-free core: the AvR method, engines, scorers, the DuckDB store and training."""
