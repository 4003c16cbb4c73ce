/**
 * Tables as training data: a Spark table (Parquet, CSV, a DataFrame) read into packed shards, its
 * feature columns (arrays, Spark ML vectors, named numeric columns) and labels (numbers or
 * strings). Which format a path holds is {@code data.DataFormat}'s. May import {@code data};
 * Spark SQL.
 */
package dev.sparkprop.table;
