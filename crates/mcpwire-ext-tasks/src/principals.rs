//! The tasks of 2025-11-25 that belong to a principal rather than to a session.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::owner::Owner;
use crate::registry::{TaskLimits, TaskRegistry};

/// The 2025-11-25 tasks of a server's principals: one [`TaskRegistry`] per principal, shared
/// by all of its sessions.
///
/// A task bound to its principal outlives the session that created it: a later session of the
/// same principal polls it, waits for its result, lists and cancels it, while any other
/// principal is told it does not exist. Registries are kept while a session uses them or they
/// hold a live task, and at most [`TaskLimits::max_stored_tasks`] of them at once.
#[derive(Debug)]
pub struct PrincipalTasks {
    limits: TaskLimits,
    registries: Mutex<HashMap<Owner, Arc<TaskRegistry>>>,
}

impl PrincipalTasks {
    /// No registries yet; each one made will have these bounds.
    pub fn new(limits: TaskLimits) -> Self {
        PrincipalTasks {
            limits,
            registries: Mutex::default(),
        }
    }

    /// The registry of `owner`'s tasks, made when it has none; `None` for an anonymous owner,
    /// whose tasks belong to its session, and when [`TaskLimits::max_stored_tasks`] other
    /// principals hold registries in use.
    pub fn registry(&self, owner: Owner) -> Option<Arc<TaskRegistry>> {
        if owner.is_anonymous() {
            return None;
        }
        let mut registries = self
            .registries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(registry) = registries.get(&owner) {
            return Some(Arc::clone(registry));
        }
        if registries.len() >= self.limits.max_stored_tasks {
            // Free the registries that no session uses and that hold no live task.
            registries
                .retain(|_, registry| Arc::strong_count(registry) > 1 || !registry.is_empty());
        }
        if registries.len() >= self.limits.max_stored_tasks {
            return None;
        }
        let registry = Arc::new(TaskRegistry::new(self.limits.clone()));
        registries.insert(owner, Arc::clone(&registry));
        Some(registry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principal_has_one_registry_and_nobody_else_sees_it() {
        let principals = PrincipalTasks::new(TaskLimits::default());
        let alice = Owner::new(Some([1; 32]));
        let bob = Owner::new(Some([2; 32]));
        let first = principals.registry(alice).expect("a registry");
        let task = first.create(None).expect("created");
        let second = principals.registry(alice).expect("the same registry");
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(second.get(&task.id()).expect("found").id(), task.id());
        let other = principals.registry(bob).expect("a registry");
        assert!(other.get(&task.id()).is_err(), "another principal's task");
        assert!(principals.registry(Owner::ANONYMOUS).is_none());
    }

    #[test]
    fn unused_empty_registries_make_room_and_the_bound_holds() {
        let principals = PrincipalTasks::new(TaskLimits {
            max_stored_tasks: 2,
            ..TaskLimits::default()
        });
        let alice = principals
            .registry(Owner::new(Some([1; 32])))
            .expect("room");
        let bob = principals
            .registry(Owner::new(Some([2; 32])))
            .expect("room");
        bob.create(None).expect("created");
        assert!(
            principals.registry(Owner::new(Some([3; 32]))).is_none(),
            "both registries are in use"
        );
        drop(alice);
        drop(bob);
        // Alice's registry is unused and empty; Bob's still holds a task.
        let carol = principals.registry(Owner::new(Some([3; 32])));
        assert!(carol.is_some());
        assert!(principals.registry(Owner::new(Some([4; 32]))).is_none());
    }
}
