#pragma once
// What the event hub pushes to: a WebSocket connection in api/, a test probe in tests/.
// No CAF here, so api/'s Beast TUs can implement it without actor headers.
#include <cstdint>
#include <memory>
#include <string>

namespace hotline::actors {

class subscriber {
 public:
  virtual ~subscriber() = default;
  virtual uint64_t id() const = 0;
  // Called on a CAF worker. Must not block: a connection posts the frame to its own
  // strand. Returns false when the subscriber is gone or refuses more (a slow client
  // over its queue limit); the hub then forgets it everywhere.
  virtual bool deliver(std::shared_ptr<const std::string> frame) = 0;
  // A binary frame (listen-in audio); subscribers that carry none refuse it.
  virtual bool deliver_binary(std::shared_ptr<const std::string>) { return false; }
};

// The non-actor face of the event hub. Topic names are dotted words ("audit",
// "queue.pension", "agent.1024"); api/ decides who may subscribe to what.
class event_hub {
 public:
  virtual ~event_hub() = default;
  virtual void subscribe(const std::string& topic, std::shared_ptr<subscriber> s) = 0;
  virtual void unsubscribe(const std::string& topic, uint64_t subscriber_id) = 0;
  virtual void drop(uint64_t subscriber_id) = 0;  // from every topic (connection closed)
  // `data_json` is one JSON value; subscribers get
  //   {"type":"event","topic":T,"seq":N,"data":<data_json>}
  // with N counting up per topic from 1 (a gap tells a client it missed something).
  virtual void publish(const std::string& topic, std::string data_json) = 0;
};

}  // namespace hotline::actors
