DROP TABLE wave_cells;
