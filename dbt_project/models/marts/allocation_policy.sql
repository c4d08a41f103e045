-- The 80/20 policy per year as dbt loads the seed: the board report and BI tools read the
-- target and the tolerance in force here, beside allocation_8020.
select
    cast(first_year as integer) as first_year,
    cast(target_share_drift as double precision) as target_share_drift,
    cast(tolerance_pp as double precision) as tolerance_pp
from {{ ref('allocation_targets') }}
