//! Driver conformance: one suite, run against every driver (`epoll::*` and `io_uring::*`).
//!
//! It pins down what an [`EventCenter`](msgr::EventCenter) promises whichever kernel interface
//! it runs on: file events (edge-triggered), time events, external events and the cross-thread
//! wakeup, and `submit_to`. Each test asserts that the requested driver is the one running, so a
//! silent fallback from io_uring to epoll fails instead of passing twice.
//!
//! One test binary; the cases live in one file per concept.

#[macro_use]
#[path = "../common/mod.rs"]
mod common;
mod external;
mod file_events;
mod timers;

use external::*;
use file_events::*;
use timers::*;

driver_tests! {
    readable_fires_and_rearms_after_drain,
    writable_fires_and_rearms_when_room_returns,
    masks_accumulate_and_deleting_one_keeps_the_other,
    delete_file_event_stops_delivery_and_drops_the_handler,
    closing_a_registered_fd_is_safe: exclusive,
    closing_then_deleting_a_registered_fd_releases_it,
    timers_fire_in_deadline_order,
    equal_deadlines_fire_in_creation_order,
    cancelled_timer_never_fires,
    timer_cancelled_by_an_earlier_timer_never_fires,
    ten_thousand_timers_all_fire_in_order,
    timer_is_never_early,
    timers_end_a_wait_without_timeout,
    external_events_from_many_threads_run_once_in_order,
    cross_thread_dispatch_wakes_a_sleeping_center,
    wakeup_interrupts_a_sleeping_center,
    owner_thread_dispatch_sends_no_wakeup_and_never_sleeps_on_it,
    wakeups_sent_counts_only_empty_to_non_empty_transitions,
    submit_to_from_another_thread_runs_on_the_owner,
    submit_to_on_the_owner_thread_runs_inline,
    submit_to_a_dropped_center_is_center_gone,
    submit_to_a_center_dropped_while_waiting_is_center_gone,
}
