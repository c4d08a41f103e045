-- The area_safety spine: every area of areas.csv × every year that occurs in the safety
-- index (benchmark rows included), in the incident dates or in the dates of the
-- de-duplicated ledger lines (attributable to an area or not).
with

years as (
    select year from {{ ref('stg_police__tryghedsindeks') }}
    union
    select incident_year as year from {{ ref('stg_police__incidents') }}
    union
    select line_year as year from {{ ref('stg_vandalism__ledger_lines') }}
),

areas as (
    select
        area_id,
        area_name
    from {{ ref('stg_reference__areas') }}
),

departments as (
    select
        area_id,
        dwellings,
        valid_from,
        valid_to
    from {{ ref('stg_reference__departments') }}
),

-- A department belongs to an area in year Y when it is valid on 1 January of Y.
dwellings as (
    select
        years.year,
        departments.area_id,
        sum(departments.dwellings) as dwellings
    from years
    inner join departments
        on
            make_date(cast(years.year as integer), 1, 1) >= departments.valid_from
            and (
                departments.valid_to is null
                or make_date(cast(years.year as integer), 1, 1) <= departments.valid_to
            )
    group by years.year, departments.area_id
)

select
    areas.area_id,
    areas.area_name,
    years.year,
    cast(coalesce(dwellings.dwellings, 0) as integer) as dwellings
from areas
cross join years
left join dwellings
    on
        areas.area_id = dwellings.area_id
        and years.year = dwellings.year
