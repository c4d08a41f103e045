with

areas as (
    select
        year,
        area_id,
        coalesce(sum(budget_dkk) filter (where track = 'drift'), 0) as budget_drift_dkk,
        coalesce(sum(budget_dkk) filter (where track = 'projekt'), 0) as budget_projekt_dkk,
        coalesce(sum(fte) filter (where track = 'drift'), 0) as fte_drift,
        coalesce(sum(fte) filter (where track = 'projekt'), 0) as fte_projekt
    from {{ ref('resource_allocation') }}
    group by year, area_id
),

all_areas as (
    select
        year,
        'ALLE' as area_id,
        sum(budget_drift_dkk) as budget_drift_dkk,
        sum(budget_projekt_dkk) as budget_projekt_dkk,
        sum(fte_drift) as fte_drift,
        sum(fte_projekt) as fte_projekt
    from areas
    group by year
),

combined as (
    select * from areas
    union all
    select * from all_areas
),

-- The policy of each year: the seed's row with the latest first_year not after it (a
-- subquery, not DuckDB's ASOF join: the project builds on PostgreSQL too).
policy as (
    select
        years.year,
        policies.target_share_drift,
        policies.tolerance_pp
    from (select distinct year from combined) as years
    inner join {{ ref('allocation_targets') }} as policies
        on policies.first_year = (
                select max(earlier.first_year)
                from {{ ref('allocation_targets') }} as earlier
                where earlier.first_year <= years.year
            )
),

shares as (
    select
        combined.*,
        policy.target_share_drift,
        policy.tolerance_pp,
        cast(combined.budget_drift_dkk as double precision)
        / nullif(
            cast(combined.budget_drift_dkk + combined.budget_projekt_dkk as double precision), 0
        ) as share_drift
    from combined
    left join policy on combined.year = policy.year
)

-- Money and fte stay exact (sums of exact decimals do not depend on the order of the rows);
-- the shares are doubles computed from them. within_tolerance is decided exactly, in decimals:
-- |drift / total − target| × 100 ≤ tolerance ⇔ |drift − target × total| × 100 ≤ tolerance × total
-- (total > 0). A year before the policy's first row has no target: the not_null test says so.
select
    cast(year as integer) as year,
    cast(area_id as text) as area_id,
    cast(budget_drift_dkk as decimal(18, 2)) as budget_drift_dkk,
    cast(budget_projekt_dkk as decimal(18, 2)) as budget_projekt_dkk,
    cast(budget_drift_dkk + budget_projekt_dkk as decimal(18, 2)) as budget_total_dkk,
    cast(fte_drift as decimal(18, 4)) as fte_drift,
    cast(fte_projekt as decimal(18, 4)) as fte_projekt,
    cast(share_drift as double precision) as share_drift,
    cast(target_share_drift as double precision) as target_share_drift,
    cast((share_drift - target_share_drift) * 100 as double precision) as deviation_pp,
    case
        when budget_drift_dkk + budget_projekt_dkk > 0
            then
                abs(budget_drift_dkk - target_share_drift * (budget_drift_dkk + budget_projekt_dkk))
                * 100
                <= tolerance_pp * (budget_drift_dkk + budget_projekt_dkk)
    end as within_tolerance
from shares
