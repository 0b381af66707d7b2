# Where model files come from, for every script and test (source it, don't run it):
#   1. $BAREFLOW_MODELS, when set;
#   2. models/ in the checkout (scripts/fetch-models.sh fills it);
#   3. for stories260K.bin and tok512.bin, the copies shipped in app/default_model/,
#      checked against their SHA256SUMS before first use.
# find_model NAME prints the file's path, or fails (status 1) when no folder has it.
bareflow_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bareflow_shipped_models="$bareflow_root/app/default_model"

models_folder() { echo "${BAREFLOW_MODELS:-$bareflow_root/models}"; }

# Verifies the shipped copies once per shell; a damaged checkout must not tell a wrong story.
verify_shipped_models() {
  [ -n "${bareflow_shipped_verified:-}" ] && return 0
  if ! (cd "$bareflow_shipped_models" && sha256sum --quiet -c SHA256SUMS >&2); then
    echo "models: the shipped files in $bareflow_shipped_models do not match SHA256SUMS (damaged checkout? git checkout -- app/default_model)" >&2
    return 1
  fi
  bareflow_shipped_verified=1
}

find_model() {
  local name="$1" folder
  folder="$(models_folder)"
  if [ -f "$folder/$name" ]; then
    echo "$folder/$name"
    return 0
  fi
  if [ -f "$bareflow_shipped_models/$name" ] && grep -q " $name\$" "$bareflow_shipped_models/SHA256SUMS"; then
    verify_shipped_models || return 1
    echo "$bareflow_shipped_models/$name"
    return 0
  fi
  return 1
}
