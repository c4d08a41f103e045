with

spine as (
    select * from {{ ref('int_safety_area_years') }}
),

safety_index as (
    select
        year,
        row_type,
        area_id,
        safety_index
    from {{ ref('stg_police__tryghedsindeks') }}
),

incidents as (
    select
        area_id,
        incident_year as year,
        count(*) as police_incidents,
        count(*) filter (where is_arson) as arson_incidents
    from {{ ref('stg_police__incidents') }}
    group by area_id, incident_year
),

-- Lines whose department belongs to no area on the line's date are left out. A case
-- counts in each area-year in which it has at least one line.
vandalism_cases as (
    select
        area_id,
        line_year,
        housing_org,
        case_no,
        sum(amount_dkk) as cost_dkk
    from {{ ref('int_vandalism_lines_by_area') }}
    where area_id is not null
    group by area_id, line_year, housing_org, case_no
),

vandalism as (
    select
        area_id,
        line_year as year,
        count(*) as vandalism_cases,
        sum(cost_dkk) as vandalism_cost_dkk
    from vandalism_cases
    group by area_id, line_year
)

select
    spine.area_id,
    spine.area_name,
    spine.year,
    cast(area_index.safety_index as double precision) as tryghedsindeks,
    cast(national_index.safety_index as double precision) as national_index,
    cast(udsatte_index.safety_index as double precision) as udsatte_average_index,
    cast(coalesce(incidents.police_incidents, 0) as integer) as police_incidents,
    cast(coalesce(incidents.arson_incidents, 0) as integer) as arson_incidents,
    cast(coalesce(vandalism.vandalism_cases, 0) as integer) as vandalism_cases,
    cast(coalesce(vandalism.vandalism_cost_dkk, 0) as decimal(18, 2)) as vandalism_cost_dkk,
    cast(spine.dwellings as integer) as dwellings,
    -- In double precision on every database (PostgreSQL would divide the numeric exactly).
    cast(coalesce(vandalism.vandalism_cost_dkk, 0) as double precision)
    / nullif(spine.dwellings, 0) as vandalism_cost_per_dwelling_dkk
from spine
left join safety_index as area_index
    on
        spine.area_id = area_index.area_id
        and spine.year = area_index.year
        and area_index.row_type = 'area'
left join safety_index as national_index
    on
        spine.year = national_index.year
        and national_index.row_type = 'national'
left join safety_index as udsatte_index
    on
        spine.year = udsatte_index.year
        and udsatte_index.row_type = 'udsatte_average'
left join incidents
    on
        spine.area_id = incidents.area_id
        and spine.year = incidents.year
left join vandalism
    on
        spine.area_id = vandalism.area_id
        and spine.year = vandalism.year
