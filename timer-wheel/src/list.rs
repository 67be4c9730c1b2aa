//! Intrusive doubly-linked lists threaded through slab indices.
//!
//! Every slot of every level, and the wheel's pending list, is a [`List`]: the slab
//! indices of its first and last entries. Each entry carries its own [`Links`] (the
//! indices of its neighbours), so appending and unlinking any entry are O(1), allocate
//! nothing, and never search for the entry.
//!
//! Rules:
//! 1. An entry is in at most one list at a time. Which one is recorded by the owner of
//!    the lists (the entry's `Location`); this module only keeps the links consistent.
//! 2. Lists are FIFO: [`List::push_back`] appends, [`List::pop_front`] takes the oldest.
//!    The wheel relies on this to fire equal deadlines in insertion order.
//! 3. While an entry is in no list its links are `Links::default()` (both `None`).

use std::mem;

use slab::Slab;

/// The neighbours of an entry in the list it belongs to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Links {
    /// Slab index of the previous entry; `None` for the head.
    pub(crate) prev: Option<usize>,
    /// Slab index of the next entry; `None` for the tail.
    pub(crate) next: Option<usize>,
}

/// A slab element that can sit in a [`List`].
pub(crate) trait Linked {
    /// The element's links.
    fn links(&self) -> &Links;
    /// The element's links, to rewrite them.
    fn links_mut(&mut self) -> &mut Links;
}

/// A FIFO list of slab entries, linked through their [`Links`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct List {
    /// Slab index of the first (oldest) entry.
    head: Option<usize>,
    /// Slab index of the last (newest) entry.
    tail: Option<usize>,
}

impl List {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        List {
            head: None,
            tail: None,
        }
    }

    /// Whether the list has no entry.
    pub(crate) fn is_empty(&self) -> bool {
        debug_assert_eq!(self.head.is_none(), self.tail.is_none());
        self.head.is_none()
    }

    /// Appends `index`, which must be in no list, at the back.
    pub(crate) fn push_back<N: Linked>(&mut self, nodes: &mut Slab<N>, index: usize) {
        debug_assert_eq!(
            *nodes[index].links(),
            Links::default(),
            "entry {index} is already in a list"
        );
        let old_tail = self.tail;
        nodes[index].links_mut().prev = old_tail;
        match old_tail {
            Some(tail) => nodes[tail].links_mut().next = Some(index),
            None => self.head = Some(index),
        }
        self.tail = Some(index);
    }

    /// Unlinks `index`, which must be in this list.
    pub(crate) fn unlink<N: Linked>(&mut self, nodes: &mut Slab<N>, index: usize) {
        let Links { prev, next } = mem::take(nodes[index].links_mut());
        match prev {
            Some(prev) => nodes[prev].links_mut().next = next,
            None => {
                debug_assert_eq!(self.head, Some(index), "entry {index} is not in this list");
                self.head = next;
            }
        }
        match next {
            Some(next) => nodes[next].links_mut().prev = prev,
            None => {
                debug_assert_eq!(self.tail, Some(index), "entry {index} is not in this list");
                self.tail = prev;
            }
        }
    }

    /// Unlinks and returns the oldest entry.
    pub(crate) fn pop_front<N: Linked>(&mut self, nodes: &mut Slab<N>) -> Option<usize> {
        let head = self.head?;
        self.unlink(nodes, head);
        Some(head)
    }

    /// The entries from oldest to newest, checking that each one's `prev` link points
    /// back to its predecessor (for debug assertions).
    pub(crate) fn iter<'a, N: Linked>(
        &self,
        nodes: &'a Slab<N>,
    ) -> impl Iterator<Item = usize> + 'a {
        let tail = self.tail;
        let mut previous = None;
        let mut cursor = self.head;
        std::iter::from_fn(move || {
            let Some(index) = cursor else {
                assert_eq!(previous, tail, "the list's tail is not its last entry");
                return None;
            };
            let links = nodes[index].links();
            assert_eq!(links.prev, previous, "entry {index} has a wrong prev link");
            previous = Some(index);
            cursor = links.next;
            Some(index)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default)]
    struct Node(Links);

    impl Linked for Node {
        fn links(&self) -> &Links {
            &self.0
        }
        fn links_mut(&mut self) -> &mut Links {
            &mut self.0
        }
    }

    fn collect(list: &List, nodes: &Slab<Node>) -> Vec<usize> {
        list.iter(nodes).collect()
    }

    #[test]
    fn push_unlink_pop_keep_fifo_order() {
        let mut nodes = Slab::new();
        let ids: Vec<usize> = (0..5).map(|_| nodes.insert(Node::default())).collect();
        let mut list = List::new();
        for &id in &ids {
            list.push_back(&mut nodes, id);
        }
        assert_eq!(collect(&list, &nodes), ids);

        list.unlink(&mut nodes, ids[2]); // middle
        list.unlink(&mut nodes, ids[0]); // head
        list.unlink(&mut nodes, ids[4]); // tail
        assert_eq!(collect(&list, &nodes), vec![ids[1], ids[3]]);
        assert_eq!(*nodes[ids[2]].links(), Links::default());

        list.push_back(&mut nodes, ids[0]);
        assert_eq!(list.pop_front(&mut nodes), Some(ids[1]));
        assert_eq!(list.pop_front(&mut nodes), Some(ids[3]));
        assert_eq!(list.pop_front(&mut nodes), Some(ids[0]));
        assert_eq!(list.pop_front(&mut nodes), None);
        assert!(list.is_empty());
    }
}
