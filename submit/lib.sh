# Shared by the submit/ scripts (sourced, not run).
# shellcheck shell=bash
#
# Globals: a script sets `root` (the project folder) before sourcing this; submit_args sets
# SUBMIT (the spark-submit arguments) and PROPS (a private properties file to remove, or empty);
# SPARKPROP_CLUSTER_DIR (target/cluster) is where submit/cluster-up keeps its cluster's master
# URL and secret; launcher_args sets MASTER, CONFIG, SPARKCONF and REST (see there). Nothing else
# is read or written outside a function's own locals.

# --help of the script that sources this: its header comment (the lines after #! that start with #).
help_text() {
  awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"
}

# The application's library jars (target/lib: EJML, OpenBLAS and JavaCPP, JFreeChart, ...), comma-separated, for spark-submit --jars.
sparkprop_jars() {
  ls "$root"/target/lib/*.jar 2>/dev/null | paste -sd, -
}

# For the cluster that submit/cluster-up started at this master URL: writes a private properties
# file (conf/spark-defaults.conf plus its secret) and prints its path; prints nothing otherwise.
# For YARN: when HADOOP_CONF_DIR (or YARN_CONF_DIR) is the configuration of submit/yarn-up's
# cluster, the same with its Spark properties (the runtime's jars in place, the containers' Java).
cluster_properties() {
  local master=$1 run=${SPARKPROP_CLUSTER_DIR:-$root/target/cluster} props
  local yarnconf=${HADOOP_CONF_DIR:-${YARN_CONF_DIR:-}}/sparkprop-spark.conf
  if [ -f "$run/master-url" ] && [ "$(cat "$run/master-url")" = "$master" ] && [ -f "$run/conf/auth.conf" ]; then
    props=$(umask 077; mktemp "${TMPDIR:-/tmp}/sparkprop-submit.XXXXXX")
    cat "$root/conf/spark-defaults.conf" "$run/conf/auth.conf" > "$props"
    echo "$props"
  elif [ "$master" = yarn ] && [ -f "$yarnconf" ]; then
    props=$(umask 077; mktemp "${TMPDIR:-/tmp}/sparkprop-submit.XXXXXX")
    cat "$root/conf/spark-defaults.conf" "$yarnconf" > "$props"
    echo "$props"
  fi
}

# A copy of the application jar named by its content, so that a later build does not replace
# the jar under a job that is still running (its JVM loads classes from it lazily).
app_jar() {
  local sum dst
  sum=$(sha1sum < "$root/target/sparkprop.jar" | cut -c1-12)
  dst=$root/target/app/sparkprop-$sum.jar
  if [ ! -f "$dst" ]; then
    mkdir -p "$root/target/app"
    cp "$root/target/sparkprop.jar" "$dst.tmp.$$" && mv "$dst.tmp.$$" "$dst"
  fi
  echo "$dst"
}

# Runs a class of the application's own on this machine's JVM, no Spark submission: the report
# and chart tools (bench.BenchChart, bench.SyncTable, scale.*Report, scale.ScalingModel).
#   java_tool CLASS [args ...]
java_tool() {
  local class=$1
  shift
  java -cp "$(app_jar):$root/target/lib/*:$root/target/spark-home/jars/*" "$class" "$@"
}

# The absolute path of a --config file, or an error naming the file as the user wrote it (exit 2).
#   config=$(config_file PATH) || exit 2
config_file() {
  if [ ! -e "$1" ]; then echo "error: no config file $1" >&2; return 2; fi
  # a pipe would block the reader (this script's own look at the file too), a folder is no file
  if [ ! -f "$1" ]; then echo "error: --config $1: not a regular file (a folder, pipe, socket or device); give the properties file itself" >&2; return 2; fi
  if [ ! -r "$1" ]; then echo "error: --config $1: permission denied for user $(id -un); make it readable by that user" >&2; return 2; fi
  (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")")
}

# One BLAS thread per task: Spark already runs a task per core, and a BLAS's own threads would
# fight them for the cores (the bundled OpenBLAS is set to one thread by the code as well; this
# covers kernel=native with a system BLAS). A value the user exported wins.
blas_env() {
  export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
}

# The one rule for a path handed to a job: a URI (hdfs://, s3a://, file:...) or an absolute path
# stays as it is; a relative one is made absolute against BASE (where it was written: the
# current folder for a command-line argument, the project folder for a config file's value).
#   value=$(absolute_path BASE VALUE)
absolute_path() {
  case "$2" in /*|*://*|*:/*|'') echo "$2" ;; *) echo "$1/$2" ;; esac
}

# The value of KEY in a properties file (the last one; empty if unset).
#   value=$(config_value FILE KEY)
config_value() {
  sed -n "s/^[[:space:]]*${2//./\\.}[[:space:]]*[=:][[:space:]]*//p" "$1" | tail -1
}

# The one way a spark-submit command line is assembled, into the array SUBMIT: the master, the
# class, the library jars and OPTIONS; for the cluster of submit/cluster-up or submit/yarn-up at
# MASTER also its properties file (PROPS names it; remove it when done) and, for a driver on this
# machine, the driver's address.
# --library JAR (first) adds a jar to the libraries (the product's jar, for an application of its own).
#   submit_args MASTER CLASS [--library JAR] [spark-submit options ...]; "$root/submit/spark-submit" "${SUBMIT[@]}" JAR [args]
submit_args() {
  local master=$1 class=$2 libs
  shift 2
  libs=$(sparkprop_jars) || true
  [ -n "$libs" ] || libs="$root/target/lib/ejml-core.jar,..." # shown in dry runs before a build
  if [ "${1:-}" = --library ]; then libs=$2,$libs; shift 2; fi
  SUBMIT=(--master "$master" --class "$class" --jars "$libs" "$@")
  PROPS=
  case "$master" in spark://*|yarn) PROPS=$(cluster_properties "$master") ;; esac
  [ -z "$PROPS" ] || SUBMIT=(--properties-file "$PROPS" "${SUBMIT[@]}")
}

# The one parser of the launchers' own options: --master URL, --config FILE (made absolute and
# checked, see config_file), --conf K=V (for spark-submit) and -h/--help (the script's header,
# exit 0), each also as --opt=VALUE, a missing value an error (exit 2). Sets MASTER and CONFIG
# (left as they were when not given: set the defaults first), SPARKCONF (--conf K=V pairs) and
# REST (every other argument, in order: key=value settings and a script's own options).
#   MASTER='local[*]' CONFIG=; launcher_args "$@"
launcher_args() {
  SPARKCONF=()
  REST=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --master|--config|--conf) [ $# -ge 2 ] || { echo "error: $1 needs a value ($(launcher_value "$1"))" >&2; exit 2; } ;;
    esac
    case "$1" in
      --master) MASTER=$2; shift 2 ;;
      --master=*) MASTER=${1#--master=}; shift ;;
      --config) CONFIG=$(config_file "$2") || exit 2; shift 2 ;;
      --config=*) CONFIG=$(config_file "${1#--config=}") || exit 2; shift ;;
      --conf) SPARKCONF+=(--conf "$2"); shift 2 ;;
      --conf=*) SPARKCONF+=(--conf "${1#--conf=}"); shift ;;
      -h|--help) help_text; exit 0 ;;
      *) REST+=("$1"); shift ;;
    esac
  done
}
launcher_value() { case "$1" in --master) echo "a master URL" ;; --config) echo "a file" ;; *) echo "K=V" ;; esac; }

# Runs a sparkprop command class through spark-submit: local[*] unless --master URL is given;
# --conf K=V goes to spark-submit, everything else (--config FILE too) to the command.
#   run_command CLASS [--master URL] [--conf K=V ...] [--config FILE] [key=value ...]
run_command() {
  local class=$1
  shift
  local MASTER='local[*]' CONFIG= SPARKCONF REST
  launcher_args "$@"
  local master=$MASTER args=() sparkconf=(${SPARKCONF[@]+"${SPARKCONF[@]}"})
  [ -z "$CONFIG" ] || args+=(--config "$CONFIG")
  args+=(${REST[@]+"${REST[@]}"})
  "$root/submit/build-if-needed"
  export SPARK_LOCAL_IP=${SPARK_LOCAL_IP:-127.0.0.1}
  # local[*] runs the tasks in the driver JVM: one BLAS thread per task there too (see spark-defaults.conf).
  blas_env
  submit_args "$master" "$class" ${sparkconf[@]+"${sparkconf[@]}"}
  if [ -n "$PROPS" ]; then
    SUBMIT+=(--conf spark.driver.host="$SPARK_LOCAL_IP")
    # shellcheck disable=SC2064 # the file's name now
    trap "rm -f '$PROPS'" EXIT
  fi
  "$root/submit/spark-submit" "${SUBMIT[@]}" "$(app_jar)" ${args[@]+"${args[@]}"}
}
