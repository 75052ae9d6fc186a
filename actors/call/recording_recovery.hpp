#pragma once
// After a crash (N-42): a server killed while its recorder pool was behind leaves calls'
// audio in spill files beside their recordings (media/record/recorder.hpp). At the next
// start the pool finishes those files in the background, and each call record that still
// says `recording_pending` gets the recording's length and checksum, as it would have
// without the crash. A call that was still on when the server died has no record; its
// recording is finished all the same (it is evidence) and logged.
#include <boost/json/object.hpp>

#include <cstddef>
#include <string>

namespace hotline {
namespace record {
class recorder_pool;
struct recording_result;
}
namespace storage {
class env;
}
namespace actors {
class durable_writer;
}

namespace calls {

// A call record that waited for its recording (`recording_pending`) completed with the
// recorder's report: length and checksum, or the error. Used for late and recovered ones.
void add_recording_report(boost::json::object& record, const record::recording_result& r);

// Hands every `<dir>/<call id>.opus.pcm` to `pool.recover`; returns how many it took.
// `env` and `writer` must outlive the pool (its handlers update the call records).
size_t recover_recordings(const std::string& dir, int complexity, record::recorder_pool& pool, storage::env* env,
                          actors::durable_writer& writer);

}  // namespace calls
}  // namespace hotline
