#include "engine/observer_fanout.h"

#include <algorithm>

namespace dirledger {

FanOutObserver::FanOutObserver(std::vector<RunObserver*> observers)
    : observers_(std::move(observers)) {
  observers_.erase(std::remove(observers_.begin(), observers_.end(), nullptr),
                   observers_.end());
}

void FanOutObserver::OnPassStart(const std::string& source) {
  for (RunObserver* o : observers_) o->OnPassStart(source);
}

void FanOutObserver::OnAppend(const std::string& source, const AppendResult& r,
                              const SourceStats& totals) {
  for (RunObserver* o : observers_) o->OnAppend(source, r, totals);
}

void FanOutObserver::OnPassEnd(const std::string& source, const Status& s,
                               const SourceStats& totals) {
  for (RunObserver* o : observers_) o->OnPassEnd(source, s, totals);
}

void FanOutObserver::OnApplied(const Intent& intent, const ApplyResult& r) {
  for (RunObserver* o : observers_) o->OnApplied(intent, r);
}

void FanOutObserver::OnError(const std::string& what, const Status& s) {
  for (RunObserver* o : observers_) o->OnError(what, s);
}

void FanOutObserver::OnCaughtUp(const std::string& source) {
  for (RunObserver* o : observers_) o->OnCaughtUp(source);
}

void FanOutObserver::OnReady() {
  for (RunObserver* o : observers_) o->OnReady();
}

void FanOutObserver::OnOpened(const OpenedRecord& record) {
  for (RunObserver* o : observers_) o->OnOpened(record);
}

void FanOutObserver::OnSourceContact(const std::string& source) {
  for (RunObserver* o : observers_) o->OnSourceContact(source);
}

void FanOutObserver::OnSourceUnavailable(const std::string& source,
                                         const Status& why) {
  for (RunObserver* o : observers_) o->OnSourceUnavailable(source, why);
}

void FanOutObserver::OnHeartbeat() {
  for (RunObserver* o : observers_) o->OnHeartbeat();
}

}  // namespace dirledger
