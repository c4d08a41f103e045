select
    indsats_id as effort_id,
    navn as effort_name,
    indsatsomraade as effort_area,
    aar as year,
    aarsvaerk as fte,
    budget_kr as budget_dkk,
    -- The track codes stay Danish (drift / projekt): they are the 80/20 vocabulary of the
    -- helhedsplan; their meaning is documented in _efforts__models.yml.
    lower(trim(spor)) as track,
    trim(omraade) as area_id,
    trim(omraade) = 'FÆLLES' as is_shared
from {{ source('efforts', 'efforts') }}
