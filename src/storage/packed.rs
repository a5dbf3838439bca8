//! `Packed<B>`: a collection that is either a `SmallPack` or its big structure `B`, in one
//! word. The low bit of the pointer says which (a pack's allocation and the shared empty header
//! are made 2-aligned; `B` is checked to be at least 2-aligned), so a hash or sorted set costs 8 bytes inline in
//! the key's `Value` instead of an enum's 16, and the `Value` stays 16 bytes.

use std::marker::PhantomData;
use std::ptr::NonNull;

use super::smallpack::SmallPack;

const BIG: usize = 1;

pub struct Packed<B> {
    word: NonNull<u8>,
    _owns: PhantomData<Box<B>>,
}

/// What a `Packed` holds, for reading.
pub enum Form<'a, B> {
    Small(&'a SmallPack),
    Big(&'a B),
}

/// What a `Packed` holds, for changing in place.
pub enum FormMut<'a, B> {
    Small(&'a mut SmallPack),
    Big(&'a mut B),
}

// SAFETY: a Packed owns its pack or its box exclusively, like the SmallPack or Box<B> it holds.
unsafe impl<B: Send> Send for Packed<B> {}
// SAFETY: as above; `&Packed` only reads.
unsafe impl<B: Sync> Sync for Packed<B> {}

impl<B> Packed<B> {
    pub fn small(pack: SmallPack) -> Packed<B> {
        let pack = std::mem::ManuallyDrop::new(pack);
        // SAFETY: SmallPack is a transparent NonNull<u8>; ownership moves into the word.
        let word: NonNull<u8> = unsafe { std::mem::transmute_copy(&*pack) };
        debug_assert_eq!(word.as_ptr().addr() & BIG, 0, "pack pointers are 2-aligned");
        Packed {
            word,
            _owns: PhantomData,
        }
    }

    pub fn big(b: Box<B>) -> Packed<B> {
        const { assert!(std::mem::align_of::<B>() >= 2, "the low bit must be free") };
        let word = NonNull::new(Box::into_raw(b).cast::<u8>().map_addr(|a| a | BIG))
            .expect("a Box is never null");
        Packed {
            word,
            _owns: PhantomData,
        }
    }

    #[inline]
    fn is_big(&self) -> bool {
        self.word.as_ptr().addr() & BIG != 0
    }

    #[inline]
    fn big_ptr(&self) -> *mut B {
        self.word.as_ptr().map_addr(|a| a & !BIG).cast()
    }

    #[inline]
    pub fn form(&self) -> Form<'_, B> {
        if self.is_big() {
            // SAFETY: the word is a Box<B> pointer with the tag bit set; we own the box.
            Form::Big(unsafe { &*self.big_ptr() })
        } else {
            // SAFETY: the word is a SmallPack (a transparent NonNull<u8>) we own.
            Form::Small(unsafe { &*(&self.word as *const NonNull<u8>).cast::<SmallPack>() })
        }
    }

    #[inline]
    pub fn form_mut(&mut self) -> FormMut<'_, B> {
        if self.is_big() {
            // SAFETY: as in `form`, with `&mut self` making the borrow unique.
            FormMut::Big(unsafe { &mut *self.big_ptr() })
        } else {
            // SAFETY: as in `form`; a SmallPack allocates 2-aligned (`smallpack::pack_layout`),
            // so the word stays untagged.
            FormMut::Small(unsafe {
                &mut *(&mut self.word as *mut NonNull<u8>).cast::<SmallPack>()
            })
        }
    }
}

impl<B> Drop for Packed<B> {
    fn drop(&mut self) {
        if self.is_big() {
            // SAFETY: rebuilds the Box `big` leaked, exactly once.
            unsafe { drop(Box::from_raw(self.big_ptr())) }
        } else {
            // SAFETY: the word is a SmallPack we own; read it out once to drop it.
            unsafe {
                drop(std::ptr::read(
                    (&self.word as *const NonNull<u8>).cast::<SmallPack>(),
                ))
            }
        }
    }
}

impl<B: Clone> Clone for Packed<B> {
    fn clone(&self) -> Packed<B> {
        match self.form() {
            Form::Small(p) => Packed::small(p.clone()),
            Form::Big(b) => Packed::big(Box::new(b.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_either_form_in_one_word() {
        let mut p: Packed<Vec<u32>> = Packed::small(SmallPack::from_entries([&b"a"[..], b"bc"]));
        assert!(matches!(p.form(), Form::Small(s) if s.len() == 2));
        if let FormMut::Small(s) = p.form_mut() {
            s.push_back(&[b"def"]);
        }
        assert!(matches!(p.form(), Form::Small(s) if s.len() == 3));
        let q = p.clone();
        p = Packed::big(Box::new(vec![1, 2, 3]));
        assert!(matches!(p.form(), Form::Big(v) if v.len() == 3));
        assert!(matches!(q.form(), Form::Small(s) if s.len() == 3));
        let empty: Packed<Vec<u32>> = Packed::small(SmallPack::new());
        assert!(matches!(empty.form(), Form::Small(s) if s.is_empty()));
        assert_eq!(std::mem::size_of::<Packed<Vec<u32>>>(), 8);
        assert_eq!(std::mem::size_of::<Option<Packed<Vec<u32>>>>(), 8);
    }
}
