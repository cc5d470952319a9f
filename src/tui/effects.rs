//! The one effect executor, shared by the event loop and `--snapshot`: it feeds a message to
//! `App::update` and carries out the effects — requests to the runtime, actions in their own
//! task — none of which waits.

use tokio::sync::mpsc;

use super::app::{App, Effect, Msg};
use crate::actions::{ActionRequest, Actions};
use crate::runtime::{Request, Runtime};

pub struct Executor {
    pub runtime: Runtime,
    pub actions: Actions,
    /// Where finished actions report back.
    pub done: mpsc::Sender<Msg>,
}

impl Executor {
    /// Update the app with `msg` and carry out what it asks for.
    pub fn apply(&self, app: &mut App, msg: Msg) {
        for effect in app.update(msg) {
            match effect {
                Effect::FetchJobs(q) => self.runtime.request(Request::FetchJobs(q)),
                Effect::FollowDetail(id) => self.runtime.request(Request::FollowDetail(id)),
                Effect::RefreshAlerts => self.runtime.request(Request::RefreshAlerts),
                Effect::RagSearch(r) => self.runtime.request(Request::Search(r)),
                Effect::RunAction(request) => self.run_action(request),
                Effect::Quit => app.quit = true,
            }
        }
    }

    /// Run an action in its own task; its outcome comes back as a message.
    fn run_action(&self, request: ActionRequest) {
        let done = self.done.clone();
        let actions = self.actions.clone();
        tokio::spawn(async move {
            let result = actions.run(request.clone()).await;
            let _ = done.send(Msg::ActionDone { request, result }).await;
        });
    }
}
