-- area_list_reconciliation has a row for every area of areas.csv in every year that occurs in
-- official_list.csv, and no other row. The Dagster check belongs to the mart.
{{ config(meta={'dagster': {'ref': {'name': 'area_list_reconciliation'}}}) }}
with

covered_years as (
    select distinct year from {{ ref('stg_reference__official_list') }}
),

expected as (
    select
        areas.area_id,
        covered_years.year
    from {{ ref('stg_reference__areas') }} as areas
    cross join covered_years
),

actual as (
    select
        area_id,
        year
    from {{ ref('area_list_reconciliation') }}
)

select
    coalesce(expected.area_id, actual.area_id) as area_id,
    coalesce(expected.year, actual.year) as year
from expected
full outer join actual
    on expected.area_id = actual.area_id and expected.year = actual.year
where expected.area_id is null or actual.area_id is null
