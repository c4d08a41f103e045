-- A department belongs to an area in year Y when it is valid on 1 January of Y.
-- Years run from the first valid_from to the latest data year or the current year.
with

departments as (
    select * from {{ ref('stg_reference__departments') }}
),

statistics_years as (
    select max(year) as max_year from {{ ref('stg_statistics__area_statistics') }}
),

year_bounds as (
    select
        cast(min(extract(year from departments.valid_from)) as bigint) as first_year,
        cast(greatest(
            max(extract(year from coalesce(departments.valid_to, departments.valid_from))),
            max(statistics_years.max_year),
            extract(year from current_date)
        ) as bigint) as last_year
    from departments
    cross join statistics_years
),

years as (
    select {{ integer_series('year_bounds.first_year', 'year_bounds.last_year') }} as year
    from year_bounds
)

select
    departments.housing_org,
    departments.department_no,
    years.year,
    departments.area_id,
    departments.department_name,
    departments.dwellings,
    departments.valid_from,
    departments.valid_to
from departments
inner join years
    on
        departments.valid_from <= make_date(cast(years.year as integer), 1, 1)
        and (
            departments.valid_to is null
            or departments.valid_to >= make_date(cast(years.year as integer), 1, 1)
        )
