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
