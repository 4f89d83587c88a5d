#include "engine/remains_finder.h"

namespace dirledger {

Status PlaceRemains(RemainsFinder* finder, std::vector<EventBody>* events) {
  if (!finder) return Status::Ok();
  std::vector<ObservedChange*> deletes;
  std::vector<std::string> ids;
  for (EventBody& body : *events) {
    auto* c = std::get_if<ObservedChange>(&body);
    if (!c || c->op != ChangeOp::kDelete || !c->remains_at.empty()) continue;
    deletes.push_back(c);
    ids.push_back(c->id);
  }
  if (ids.empty()) return Status::Ok();
  auto found = finder->Find(ids);
  if (!found.ok()) return found.status();
  for (ObservedChange* c : deletes)
    if (auto it = found->find(c->id); it != found->end())
      c->remains_at = it->second;
  return Status::Ok();
}

}  // namespace dirledger
