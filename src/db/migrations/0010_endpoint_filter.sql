-- Up Migration

-- An endpoint's payload filter (issue 19): its JSON text as the API received it, without whitespace between
-- tokens. `json`, like messages.payload, keeps the text as written, so the filter's numbers keep their
-- digits (12345678901234567890, 10.10) for the exact comparison and for what GET /endpoints returns.
-- NULL: no filter.
ALTER TABLE endpoints ADD COLUMN filter json;

-- Down Migration
ALTER TABLE endpoints DROP COLUMN filter;
