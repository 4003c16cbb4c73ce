/**
 * The toolkit every command and tool shares: {@code CommandArgs} (the one reader of
 * {@code key=value} arguments and {@code --config} files), {@code ExitCodes}, {@code Failures}
 * (one line for what went wrong), {@code CommandSession} (the running Spark session, or a new
 * one) and {@code MasterCheck} (a standalone master asked first). Used by {@code cli}, {@code
 * bench} and {@code scale}; may import {@code train} (configuration keys), {@code data} and
 * {@code io} (their exceptions), and Spark.
 */
package dev.sparkprop.command;
