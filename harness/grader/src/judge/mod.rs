//! Judge: what happened to each cell ([`outcome`]), decided from a launch's evidence ([`cell`],
//! [`verify`]), and each part's verdict from its cells ([`part`]).

pub mod cell;
pub mod outcome;
pub mod part;
pub mod verify;
