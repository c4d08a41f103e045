-- The list categories of every ruleset as dbt loads the seed: BI tools and the board report
-- read labels and severities here, with the marts.
select
    ruleset,
    category,
    label_da,
    severity,
    base_category,
    criteria_required,
    min_residents,
    consecutive_years,
    first_year,
    last_year,
    legal_basis
from {{ ref('ruleset_categories') }}
