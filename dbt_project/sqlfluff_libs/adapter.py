"""`adapter` for sqlfluff's jinja templater (linting from the repository root): dbt's
adapter.dispatch, resolved as on DuckDB (the `duckdb__` macro, else the `default__` one)."""

from jinja2 import pass_context


@pass_context
def dispatch(context, macro_name, macro_namespace=None):
    return context.get(f"duckdb__{macro_name}") or context[f"default__{macro_name}"]
