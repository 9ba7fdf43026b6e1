DROP TABLE wave_summaries;
