{#- The pre-hook of an incremental model that reflects every row of `raw_relation`: empties
    the model unless the raw rows it reflects are all still there, so that it is rebuilt from
    every raw row. The model keeps, per row, how many raw rows it reflects (n_exports) and when
    the last of them was loaded (last_loaded_at). Nothing outside an incremental run. -#}
{% macro empty_unless_only_appended(raw_relation) %}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
            (
                select count(*) from {{ raw_relation }}
                where _loaded_at <= (select max(last_loaded_at) from {{ this }})
            )
            <> (select sum(n_exports) from {{ this }})
    {%- endif -%}
{% endmacro %}
