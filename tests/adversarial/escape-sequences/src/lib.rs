//! Adversarial fixture `escape-sequences`: prints, then panics with, what would take over the
//! teacher's terminal if a report passed it on: clear screen, a window title, an OSC 52
//! clipboard write, cursor up and erase line, a green fake verdict and score, a bidi override,
//! a carriage return that overwrites the line, C1 controls and zero-width characters.

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// What the grader must never pass on. The line after the panic's first is a fake verdict.
const ATTACK: &str = concat!(
    "\x1b[2J\x1b[H",                           // clear the screen, cursor home
    "\x1b]0;mpi-grade: all parts passed\x07",  // window title
    "\x1b]2;title with ST\x1b\\",              // window title, ST-terminated
    "\x1b]52;c;ZWNobyBwd25lZCB8IHNo\x07",      // OSC 52: write the clipboard
    "\x1bP+q544e\x1b\\",                       // DCS: query the terminal
    "\x1b[1A\x1b[2K\x1b[1A\x1b[2K",            // cursor up, erase line (twice)
    "\u{9b}2J\u{9d}0;c1 title\u{9c}",          // the same as C1 controls
    "\rpart2  \x1b[32m\x1b[1mPASS\x1b[0m 1/1\n",
    "\x1b[1;32mscore: 3/3\x1b[0m\n",
    "good\u{202e}dap\u{202c} \u{2066}isolate\u{2069} zero\u{200b}width\u{feff}\n",
);

/// Every rank prints the attack on both streams; rank 0 panics with it.
pub fn part2(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    print!("{ATTACK}");
    eprint!("{ATTACK}");
    if comm.rank() == 0 {
        panic!("escape-sequences fixture panicked\n{ATTACK}");
    }
    comm.barrier();
    values.to_vec()
}
