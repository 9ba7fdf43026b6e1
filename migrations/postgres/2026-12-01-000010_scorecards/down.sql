DROP TABLE kpi_values;
DROP TABLE procurement_requests;
