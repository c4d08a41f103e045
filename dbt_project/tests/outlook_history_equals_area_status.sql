-- The outlook's status on the delivered years is the history's, row for row: the outlook adds
-- a year and changes none (int_outlook_status and int_area_status share category_status).
-- The Dagster check belongs to int_outlook_status (the test reads more than one node).
{{ config(meta={'dagster': {'ref': {'name': 'int_outlook_status'}}}) }}
with

outlook_history as (
    select
        area_id,
        year,
        ruleset,
        category,
        residents,
        eligible,
        criteria_met,
        criteria_required,
        gate_met,
        qualifies,
        consecutive_years_qualified,
        in_force,
        complete
    from {{ ref('int_outlook_status') }}
    where not is_outlook
),

history as (
    select
        area_id,
        year,
        ruleset,
        category,
        residents,
        eligible,
        criteria_met,
        criteria_required,
        gate_met,
        qualifies,
        consecutive_years_qualified,
        in_force,
        complete
    from {{ ref('int_area_status') }}
),

outlook_only as (
    select * from outlook_history
    except
    select * from history
),

history_only as (
    select * from history
    except
    select * from outlook_history
)

select
    'only in int_outlook_status' as problem,
    area_id,
    year,
    ruleset,
    category
from outlook_only
union all
select
    'only in int_area_status' as problem,
    area_id,
    year,
    ruleset,
    category
from history_only
