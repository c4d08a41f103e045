-- A line belongs to the area its department belongs to on the line's date. Lines whose
-- department belongs to no area on that date keep area_id NULL here: the marts leave them
-- out and the not_null test on area_id (severity warn) reports them.
with

lines as (
    select * from {{ ref('stg_vandalism__ledger_lines') }}
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
    departments.area_id
from lines
left join departments
    on
        lines.housing_org = departments.housing_org
        and lines.department_no = departments.department_no
        and lines.line_date >= departments.valid_from
        and (departments.valid_to is null or lines.line_date <= departments.valid_to)
