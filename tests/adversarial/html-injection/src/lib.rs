//! Adversarial fixture `html-injection`: prints, then panics with, markup that would run in the
//! teacher's browser if the HTML report (`--html`) or Gradescope's HTML output passed it on: a
//! script, an image whose error handler runs, the end of the `<pre>`, of an attribute and of an
//! SVG `<title>` it might be put in, a refresh to elsewhere and a style that hides the page.

use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// What the report must show as text, never as markup. Each piece sets `window.pwned`.
const ATTACK: &str = concat!(
    "</pre></details><script>window.pwned='script'</script>\n",
    "<img src=x onerror=\"window.pwned='img'\">\n",
    "\"><svg onload=\"window.pwned='attribute'\"></svg>\n",
    "'><svg onload='window.pwned=1'></svg>\n",
    "</title></svg><script>window.pwned='title'</script>\n",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://example.invalid/\">\n",
    "<style>body{display:none}</style>\n",
    "&lt;script&gt; stays as typed\n",
);

/// Every rank prints the attack on both streams; rank 0 panics with it.
pub fn part2(comm: &SimpleCommunicator, values: &[Vec<i64>]) -> Vec<Vec<i64>> {
    print!("{ATTACK}");
    eprint!("{ATTACK}");
    if comm.rank() == 0 {
        panic!("html-injection fixture panicked\n{ATTACK}");
    }
    comm.barrier();
    values.to_vec()
}
