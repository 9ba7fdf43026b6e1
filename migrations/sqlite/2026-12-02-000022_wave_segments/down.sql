DROP TABLE wave_segments;
