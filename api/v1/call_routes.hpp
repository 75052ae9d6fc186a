#pragma once
// The call records (CDRs) and their recordings (/v1/calls): what a shift lead reviews
// after the fact — who called, the IVR path, the wait, the agent, who released first, the
// survey, the media figures — and the stereo recording (N-42), every listen audited.
#include <functional>

#include "api/auth/accounts.hpp"
#include "api/auth/audit.hpp"
#include "api/config/config.hpp"
#include "api/v1/router.hpp"
#include "storage/env.hpp"

namespace hotline::api {

using audit_fn = std::function<void(auth::audit_event)>;

void add_call_routes(router& r, const storage::env& env, const config::config& cfg, auth::accounts& accounts,
                     audit_fn audit);

}  // namespace hotline::api
