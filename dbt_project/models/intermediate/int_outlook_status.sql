-- The status of every ruleset category for every area-year with statistics and each area's
-- outlook year O, by the same macro as int_area_status over int_outlook_criteria: runs of
-- consecutive years reach from O back into the delivered years. On the delivered years the
-- rows equal int_area_status (a data test checks it).
with

status as (
    {{ category_status(
        criteria=ref('int_outlook_criteria'),
        metrics=ref('int_outlook_metrics'),
    ) | indent(4) }}
),

outlook_years as (
    select distinct
        area_id,
        year
    from {{ ref('int_outlook_metrics') }}
    where is_outlook
)

select
    status.*,
    outlook_years.area_id is not null as is_outlook
from status
left join outlook_years
    on
        status.area_id = outlook_years.area_id
        and status.year = outlook_years.year
