//! Judge: what happened to each cell ([`outcome`]), decided from a launch's evidence ([`cell`],
//! [`verify`]), and each part's whole verdict from its evidence ([`part`]), with the performance
//! rule ([`performance`]) and the probe's explanation of buffering ([`buffering`]); what each
//! challenge kind's parts must return ([`contract`]); a part timed against another ([`ratio`]).

pub mod buffering;
pub mod cell;
pub mod contract;
pub mod outcome;
pub mod part;
pub mod performance;
pub mod ratio;
pub mod verify;
