{#- The departments as a line's area is found from them: one text that changes when any
    department period's organisation, number, area or dates change (cross-database: DuckDB
    and PostgreSQL). -#}
{% macro departments_fingerprint(departments_relation) %}
    select
        md5(coalesce(string_agg(
            concat_ws(
                '|',
                housing_org,
                cast(department_no as varchar),
                coalesce(area_id, ''),
                cast(valid_from as varchar),
                coalesce(cast(valid_to as varchar), '')
            ),
            ';' order by housing_org, department_no, valid_from
        ), ''))
    from {{ departments_relation }}
{% endmacro %}

{#- The pre-hook of an incremental model that keeps, per row, the departments_fingerprint it
    was attributed with: removes the rows attributed with other departments than the current
    ones, so they are attributed again. Nothing outside an incremental run. -#}
{% macro empty_unless_same_departments(departments_relation) %}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where departments_fingerprint <> ({{ departments_fingerprint(departments_relation) }})
    {%- endif -%}
{% endmacro %}
