-- A line belongs to the area its department belongs to on the line's date. Lines whose
-- department belongs to no area on that date keep area_id NULL here: the marts leave them
-- out and the not_null test on area_id (severity warn) reports them.
--
-- Incremental, like the ledger lines it attributes (~5M nationally: writing them all took
-- 1.7 s of a 25 s incremental refresh): a refresh attributes only the lines the ledger lines
-- recomputed since this table's last build (later last_loaded_at), and replaces them. Every
-- line is attributed again when that would not give what a full build gives: when the
-- departments differ from those the lines were attributed with (departments_fingerprint), or
-- when raw rows these lines reflect are gone (the ledger lines were then all recomputed; see
-- the macro empty_unless_lines_unchanged).
{{ config(
    materialized='incremental',
    unique_key=['housing_org', 'case_no', 'line_no'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook=[
        "{{ empty_unless_lines_unchanged(ref('stg_vandalism__ledger_lines')) }}",
        "{{ empty_unless_same_departments(ref('stg_reference__departments')) }}",
    ],
) }}

with

lines as (
    select * from {{ ref('stg_vandalism__ledger_lines') }}
    {% if is_incremental() %}
        where
            (select max(last_loaded_at) from {{ this }}) is null
            or last_loaded_at > (select max(last_loaded_at) from {{ this }})
    {% endif %}
),

departments as (
    select
        housing_org,
        department_no,
        area_id,
        valid_from,
        valid_to
    from {{ ref('stg_reference__departments') }}
)

select
    lines.housing_org,
    lines.department_no,
    lines.case_no,
    lines.line_no,
    lines.line_date,
    lines.line_year,
    lines.category,
    lines.amount_dkk,
    lines.export_period,
    departments.area_id,
    lines.n_exports,
    lines.last_loaded_at,
    ({{ departments_fingerprint(ref('stg_reference__departments')) }}) as departments_fingerprint
from lines
left join departments
    on
        lines.housing_org = departments.housing_org
        and lines.department_no = departments.department_no
        and lines.line_date >= departments.valid_from
        and (departments.valid_to is null or lines.line_date <= departments.valid_to)
