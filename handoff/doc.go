// Package handoff is the human side of an escalation: queues, routing, SLA
// timers, the ownership lifecycle (claim, transfer, snooze, resolve, reopen)
// and the context packet that travels with a conversation.
//
// # Routing
//
// Routing decides which agent is offered which waiting conversation. It is a
// pure decision over one snapshot that the caller read from the store (the
// waiting conversations, the agents and what each one already carries); the
// caller then assigns each offer with the store's atomic "assign if under
// capacity", so two replicas deciding at once never push an agent over.
//
// Who may take a conversation. An agent is eligible for a waiting
// conversation when all of these hold:
//
//   - the agent is online (away and offline agents get nothing);
//   - the agent works for the conversation's bot, or for every bot;
//   - the agent has every skill the conversation needs: the queue's skills
//     and the customer's language (the handoff packet's skills);
//   - the agent has capacity on the conversation's channel kind and is
//     under it: open conversations of that kind < capacity for that kind.
//     No capacity for a kind means the agent takes none of that kind.
//
// A reopened conversation may name the agent who had it (Item.Preferred).
// That agent gets it first when online, working for the bot and under
// capacity on its kind; skills are not asked again, since the agent already
// owned the conversation. Otherwise it is routed like any other.
//
// Which conversation first. Waiting conversations are served by priority
// (urgent, high, normal, low), then by how long they have waited (queued
// first, served first), then by conversation id so that the same snapshot
// always gives the same plan.
//
// Which agent. Among the eligible agents the least loaded one gets the
// conversation. Load is the share of the agent's whole capacity in use:
// the open conversations of every kind over the capacities of every kind
// added up. A person's attention is one thing shared across channels, so
// an agent busy with four web chats is not "free" for WhatsApp because no
// WhatsApp chat is open; and capacities differ on purpose (a senior agent
// carries six, a newcomer two), so a share fills everyone at the same pace
// where a raw count would keep the newcomer full and the senior idle, and
// spare slots (capacity minus load) would do the opposite. Equal shares go
// to whoever has waited longest since their last assignment (never
// assigned counts as longest), then to the lower agent id.
//
// One pass never over-assigns. A plan serves the waiting conversations in
// order and counts its own offers: an agent's load grows with each offer
// (and its last assignment becomes "just now"), so the next conversation
// sees the agent as it will be. The plan is greedy by priority: a
// conversation takes the best agent for it even when that agent is the only
// one a later conversation could have had, because the earlier one is more
// urgent or has waited longer. When a plan ends, every conversation left
// waiting has no eligible agent with room: no conversation waits while an
// eligible agent has room.
//
// Three forms share these rules. Plan serves a whole queue (start-up, a
// periodic sweep, after a bulk change). ForItem serves one conversation
// that has just been queued; ForAgent serves one agent who has just gained
// room (came online, resolved, transferred one away). The single forms give
// what Plan would give provided the rest of the queue was already planned,
// since then nothing else waiting could use the room; a periodic Plan puts
// right whatever a lost race left behind.
package handoff
