-- A filtered directory page whose matches are read and sorted (a narrow filter, or a page
-- far from the start; see `db::models::stakeholders::DirectorySql`) needs each match's email
-- and state, found by its id. Through the primary key's index that is a lookup of the id
-- and then of the row (the whole row, attributes and all, a page of the table per match);
-- this index holds both, so the matches are sorted from it alone and only the page's 50
-- rows are read.
CREATE INDEX stakeholders_id_email ON stakeholders (id, active, email);
