//! Who a task of the extension belongs to.

use std::fmt;

/// Who a task belongs to: the principal whose request created it, or nobody in particular.
///
/// A task is found only by requests of its owner; any other caller is told it does not exist.
/// Anonymous requests (no credentials, such as stdio) share one owner, as the spec allows: the
/// unguessable task id is then the only key to the task.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Owner(Option<[u8; 32]>);

impl Owner {
    /// The owner of anonymous requests.
    pub const ANONYMOUS: Owner = Owner(None);

    /// The principal named by `digest`, a hash of who made the request (such as the
    /// authorization digest of an HTTP exchange); `None` for an anonymous request.
    pub fn new(digest: Option<[u8; 32]>) -> Self {
        Owner(digest)
    }

    /// The digest naming the principal, `None` for anonymous requests.
    pub fn digest(&self) -> Option<[u8; 32]> {
        self.0
    }

    /// Whether no principal owns the task.
    pub fn is_anonymous(&self) -> bool {
        self.0.is_none()
    }
}

impl fmt::Debug for Owner {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A digest names a principal: show only that there is one.
        match self.0 {
            None => formatter.write_str("Owner(anonymous)"),
            Some(_) => formatter.write_str("Owner(principal)"),
        }
    }
}
