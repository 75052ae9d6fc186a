# Sourced by the black-box scripts: numbered checks that keep going after a failure.
# `check NAME COMMAND...` runs the command and counts it; the script ends with
#   echo "$pass passed, $fail failed"
pass=0 fail=0
check() {  # check NAME CONDITION...
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok   $name"; else fail=$((fail + 1)); echo "FAIL $name"; fi
}
