select
    area_id,
    year,
    ruleset,
    category,
    criterion,
    role,
    metric,
    value,
    operator,
    threshold,
    met,
    margin,
    persons_to_exit
from {{ ref('int_area_criteria') }}
